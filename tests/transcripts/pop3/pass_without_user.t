# PASS needs a USER first; a wrong password is [AUTH]
@port implicit_tls
= tls
S: +OK inetkit POP3 server ready
C: PASS {password}
S: -ERR No name given; send USER first
C: USER alice
S: +OK Send PASS
C: PASS wrong-password
S: -ERR [AUTH] Authentication failed
C: PASS {password}
S: -ERR No name given; send USER first
C: USER nobody-here
S: +OK Send PASS
C: PASS {password}
S: -ERR [AUTH] Authentication failed
C: QUIT
S: +OK inetkit POP3 server signing off
