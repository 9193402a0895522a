# AUTH: the list, a cancelled exchange, an unknown mechanism, PLAIN
@port implicit_tls
= tls
S: +OK inetkit POP3 server ready
C: AUTH
S: +OK
S: PLAIN
S: LOGIN
S: .
C: AUTH PLAIN
S: + 
C: *
S: -ERR Authentication cancelled
C: AUTH CRAM-MD5
S: -ERR Unsupported authentication mechanism; use one of: PLAIN LOGIN
C: AUTH LOGIN
S: + VXNlcm5hbWU6
C: YWxpY2U=
S: + UGFzc3dvcmQ6
C: Y29ycmVjdC1ob3JzZS0x
S: +OK Logged in; {n} messages ({n} octets)
C: QUIT
S: +OK inetkit POP3 server signing off (0 messages deleted)
