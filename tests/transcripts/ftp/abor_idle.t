# ABOR with no transfer running
S: 220 {*}
C: USER anonymous
S: 331 {*}
C: PASS x@y
S: 230 {*}
C: ABOR
S: 225 No transfer to abort.
C: QUIT
S: 221 Goodbye.
