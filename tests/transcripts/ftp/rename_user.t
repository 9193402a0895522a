# a real user renames with RNFR/RNTO; RNTO alone is refused
@user bob
S: 220 {*}
C: USER bob
S: 331 {*}
C: PASS {password}
S: 230 Login successful.
C: RNTO x
S: 503 Send RNFR first.
C: MKD made
S: 257 {*}
C: RNFR made
S: 350 {*}
C: RNTO renamed
S: 250 {*}
C: RMD renamed
S: 250 {*}
C: RMD renamed
S: 550 {*}
C: QUIT
S: 221 Goodbye.
