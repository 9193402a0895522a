# Greeting, then QUIT in the AUTHORIZATION state
S: +OK inetkit POP3 server ready
C: QUIT
S: +OK inetkit POP3 server signing off
= closed
