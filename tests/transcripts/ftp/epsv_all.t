# after EPSV ALL only EPSV may set up a data connection (RFC 2428)
S: 220 {*}
C: USER anonymous
S: 331 {*}
C: PASS x@y
S: 230 {*}
C: EPSV ALL
S: 200 EPSV ALL ok: only EPSV from now on.
C: PASV
S: 503 Only EPSV may be used after EPSV ALL.
C: PORT 127,0,0,1,4,1
S: 503 Only EPSV may be used after EPSV ALL.
C: EPRT |1|127.0.0.1|1025|
S: 503 Only EPSV may be used after EPSV ALL.
C: EPSV
S: 229 Entering Extended Passive Mode ({epsv})
C: QUIT
S: 221 Goodbye.
