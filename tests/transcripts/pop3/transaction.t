# TRANSACTION on an empty maildrop: every command and its refusals
@port implicit_tls
@user carol
= tls
S: +OK inetkit POP3 server ready
C: USER carol
S: +OK Send PASS
C: PASS {password}
S: +OK Logged in; 0 messages (0 octets)
C: STAT
S: +OK 0 0
C: LIST
S: +OK 0 messages (0 octets)
S: .
C: UIDL
S: +OK Unique-ID listing follows
S: .
C: LIST 1
S: -ERR No such message; the maildrop has 0
C: RETR 0
S: -ERR Invalid message number '0'
C: TOP 1 x
S: -ERR No such message; the maildrop has 0
C: NOOP
S: +OK
C: RSET
S: +OK Maildrop has 0 messages (0 octets)
C: CAPA
S: +OK Capability list follows
S: TOP
S: UIDL
S: RESP-CODES
S: AUTH-RESP-CODE
S: PIPELINING
S: IMPLEMENTATION inetkit
S: .
C: QUIT
S: +OK inetkit POP3 server signing off (0 messages deleted)
= closed
