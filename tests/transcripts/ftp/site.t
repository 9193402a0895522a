# SITE HELP lists the SITE commands
S: 220 {*}
C: USER anonymous
S: 331 {*}
C: PASS x@y
S: 230 {*}
C: SITE HELP
S: 214-SITE commands:
S:  SITE CHMOD <sp> mode <sp> pathname
S:  SITE HELP
S: 214 End
C: SITE NOSUCH
S: {n} {*}
C: QUIT
S: 221 Goodbye.
