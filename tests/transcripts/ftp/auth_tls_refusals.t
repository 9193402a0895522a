# over TLS a second AUTH is refused: its syntax is checked first (501), then "already" (503)
S: 220 {*}
C: AUTH TLS
S: 234 Proceed with TLS negotiation.
= tls
C: AUTH
S: 501 Syntax: AUTH <sp> TLS
C: AUTH TLS
S: 503 Already using TLS.
C: auth ssl
S: 503 Already using TLS.
C: QUIT
S: 221 Goodbye.
