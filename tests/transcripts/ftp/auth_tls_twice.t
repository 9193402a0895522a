# once the control connection is TLS, a second AUTH is refused
S: 220 {*}
C: AUTH TLS
S: 234 Proceed with TLS negotiation.
= tls
C: AUTH TLS
S: 503 {*}
C: QUIT
S: 221 Goodbye.
