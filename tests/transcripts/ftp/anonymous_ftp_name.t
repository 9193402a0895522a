# "ftp" is the classic other name of the anonymous account
S: 220 {*}
C: USER ftp
S: 331 Anonymous login: send your e-mail address as the password.
C: PASS x@y
S: 230 Anonymous access granted: read-only; uploads go to /incoming.
C: QUIT
S: 221 Goodbye.
= closed
