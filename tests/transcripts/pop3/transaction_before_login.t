# TRANSACTION commands before a login
S: +OK inetkit POP3 server ready
C: STAT
S: -ERR STAT needs a login first: USER and PASS, or AUTH
C: LIST
S: -ERR LIST needs a login first: USER and PASS, or AUTH
C: RETR 1
S: -ERR RETR needs a login first: USER and PASS, or AUTH
C: DELE 1
S: -ERR DELE needs a login first: USER and PASS, or AUTH
C: UIDL
S: -ERR UIDL needs a login first: USER and PASS, or AUTH
C: NOOP
S: -ERR NOOP needs a login first: USER and PASS, or AUTH
C: QUIT
S: +OK inetkit POP3 server signing off
