# an active-mode (PORT) upload into the anonymous upload folder, which anonymous users cannot read back
S: 220 {*}
C: USER anonymous
S: 331 {*}
C: PASS x@y
S: 230 {*}
C: TYPE I
S: 200 Switching to Binary mode.
C: PORT {active}
S: 200 {*}
C: STOR incoming/transcript.txt
U: uploaded by a transcript
S: 150 {*}
S: 226 {*}
C: SIZE incoming/transcript.txt
S: 550 Permission denied: /incoming is write-only (uploads only).
C: QUIT
S: 221 Goodbye.
