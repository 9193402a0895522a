# anonymous users may read but change nothing outside the upload folder
S: 220 {*}
C: USER anonymous
S: 331 {*}
C: PASS x@y
S: 230 {*}
C: DELE pub/hello.txt
S: 550 Permission denied: anonymous users may only upload into /incoming.
C: MKD newdir
S: 550 Permission denied: anonymous users may only upload into /incoming.
C: RNFR pub/hello.txt
S: 550 Permission denied: anonymous users may only upload into /incoming.
C: RNTO pub/h2.txt
S: 503 Send RNFR first.
C: STOU
S: 425 Use PORT, EPRT, PASV or EPSV first.
C: EPSV
S: 229 {*}
C: STOU
S: 550 Permission denied: anonymous users may only upload into /incoming.
C: QUIT
S: 221 Goodbye.
