# APOP is off unless configured
S: +OK inetkit POP3 server ready
C: APOP alice c4c9334bac560ecc979e58001b3e22fb
S: -ERR APOP is not enabled on this server; use USER and PASS, or AUTH
C: QUIT
S: +OK inetkit POP3 server signing off
