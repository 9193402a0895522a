# PBSZ and PROT need TLS on the control connection first
S: 220 {*}
C: PBSZ 0
S: 503 Send AUTH TLS first.
C: PROT P
S: 503 Send AUTH TLS first.
C: QUIT
S: 221 Goodbye.
