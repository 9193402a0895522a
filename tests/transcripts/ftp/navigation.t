# CWD, CDUP and PWD stay inside the root: ".." above it is the root
S: 220 {*}
C: USER anonymous
S: 331 {*}
C: PASS x@y
S: 230 {*}
C: CWD /../..
S: 250 Directory successfully changed.
C: PWD
S: 257 "/" is the current directory
C: CWD pub
S: 250 Directory successfully changed.
C: PWD
S: 257 "/pub" is the current directory
C: XPWD
S: 257 "/pub" is the current directory
C: CDUP
S: 250 Directory successfully changed.
C: CWD nothere
S: 550 /nothere: No such file or directory.
C: QUIT
S: 221 Goodbye.
