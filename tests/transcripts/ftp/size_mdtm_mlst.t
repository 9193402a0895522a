# SIZE (in TYPE A counts CRLF line ends; in TYPE I the bytes), MDTM and MLST
S: 220 {*}
C: USER anonymous
S: 331 {*}
C: PASS x@y
S: 230 {*}
C: SIZE pub/hello.txt
S: 213 14
C: TYPE I
S: 200 Switching to Binary mode.
C: SIZE pub/hello.txt
S: 213 13
C: SIZE nothere
S: 550 /nothere: No such file or directory.
C: MDTM pub/hello.txt
S: 213 {n}
C: MLST pub/hello.txt
S: 250-Listing /pub/hello.txt
S:  type=file;size=13;modify={n};perm=r;unique={*};UNIX.mode=0644; /pub/hello.txt
S: 250 End
C: QUIT
S: 221 Goodbye.
