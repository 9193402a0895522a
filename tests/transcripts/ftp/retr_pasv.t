# a passive-mode download
S: 220 {*}
C: USER anonymous
S: 331 {*}
C: PASS x@y
S: 230 {*}
C: TYPE I
S: 200 Switching to Binary mode.
C: PASV
S: 227 Entering Passive Mode ({pasv}).
C: RETR pub/hello.txt
D: hello, world
S: 150 {*}
S: 226 {*}
C: QUIT
S: 221 Goodbye.
