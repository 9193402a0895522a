# AUTH TLS, then PBSZ/PROT and an anonymous login over TLS
S: 220 {*}
C: AUTH TLS
S: 234 Proceed with TLS negotiation.
= tls
C: PBSZ 0
S: 200 {*}
C: PROT P
S: 200 {*}
C: USER anonymous
S: 331 {*}
C: PASS x@y
S: 230 {*}
C: QUIT
S: 221 Goodbye.
