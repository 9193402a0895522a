# REST then RETR sends the file from the offset
S: 220 {*}
C: USER anonymous
S: 331 {*}
C: PASS x@y
S: 230 {*}
C: TYPE I
S: 200 Switching to Binary mode.
C: REST 7
S: 350 Restart position accepted (7).
C: PASV
S: 227 Entering Passive Mode ({pasv}).
C: RETR pub/hello.txt
D: world
S: 150 {*}
S: 226 {*}
C: QUIT
S: 221 Goodbye.
