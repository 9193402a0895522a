# STLS, CAPA over TLS, USER/PASS, STLS again refused
S: +OK inetkit POP3 server ready
C: STLS
S: +OK Begin TLS negotiation
= tls
C: CAPA
S: +OK Capability list follows
S: TOP
S: UIDL
S: RESP-CODES
S: AUTH-RESP-CODE
S: PIPELINING
S: USER
S: SASL PLAIN LOGIN
S: IMPLEMENTATION inetkit
S: .
C: STLS
S: -ERR TLS is already active
C: USER alice
S: +OK Send PASS
C: PASS {password}
S: +OK Logged in; {n} messages ({n} octets)
C: USER alice
S: -ERR Already logged in; USER is for the AUTHORIZATION state
C: STLS
S: -ERR Already logged in; STLS is for the AUTHORIZATION state
C: QUIT
S: +OK inetkit POP3 server signing off (0 messages deleted)
= closed
