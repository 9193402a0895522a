# RPOP (RFC 1081) trusted the client's port: never offered
S: +OK inetkit POP3 server ready
C: RPOP alice
S: -ERR RPOP is not supported; use USER and PASS, or AUTH
C: QUIT
S: +OK inetkit POP3 server signing off
