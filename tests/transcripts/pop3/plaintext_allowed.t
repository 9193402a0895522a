# allow_plaintext_auth: USER/PASS without TLS, and CAPA says so
@config allow_plaintext_auth = yes
S: +OK inetkit POP3 server ready
C: CAPA
S: +OK Capability list follows
S: TOP
S: UIDL
S: RESP-CODES
S: AUTH-RESP-CODE
S: PIPELINING
S: USER
S: SASL PLAIN LOGIN
S: STLS
S: IMPLEMENTATION inetkit
S: .
C: USER alice
S: +OK Send PASS
C: PASS {password}
S: +OK Logged in; {n} messages ({n} octets)
C: QUIT
S: +OK inetkit POP3 server signing off (0 messages deleted)
