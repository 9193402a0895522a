# An unknown command, and an empty line
S: +OK inetkit POP3 server ready
C: XTND XMIT
S: -ERR Unknown command
C: LAST
S: -ERR Unknown command
C: 
S: -ERR Empty command line
C: QUIT
S: +OK inetkit POP3 server signing off
