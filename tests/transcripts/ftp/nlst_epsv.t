# a name listing over an EPSV data connection
S: 220 {*}
C: USER anonymous
S: 331 {*}
C: PASS x@y
S: 230 {*}
C: EPSV
S: 229 Entering Extended Passive Mode ({epsv})
C: NLST pub
D: pub/docs
D: pub/hello.txt
S: 150 {*}
S: 226 {*}
C: QUIT
S: 221 Goodbye.
