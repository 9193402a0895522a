# Arguments that break a command's rule
@port implicit_tls
= tls
S: +OK inetkit POP3 server ready
C: USER
S: -ERR Syntax: USER name
C: PASS
S: -ERR Syntax: PASS password
C: CAPA now
S: -ERR Syntax: CAPA
C: QUIT now
S: -ERR Syntax: QUIT
C: USER alice
S: +OK Send PASS
C: PASS {password}
S: +OK Logged in; {n} messages ({n} octets)
C: RETR
S: -ERR Syntax: RETR msg
C: TOP 1
S: -ERR Syntax: TOP msg lines
C: DELE 1 2
S: -ERR Syntax: DELE msg
C: STAT 1
S: -ERR Syntax: STAT
C: QUIT
S: +OK inetkit POP3 server signing off (0 messages deleted)
= closed
