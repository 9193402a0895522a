# CAPA before STLS lists neither USER nor SASL
S: +OK inetkit POP3 server ready
C: CAPA
S: +OK Capability list follows
S: TOP
S: UIDL
S: RESP-CODES
S: AUTH-RESP-CODE
S: PIPELINING
S: STLS
S: IMPLEMENTATION inetkit
S: .
C: QUIT
S: +OK inetkit POP3 server signing off
