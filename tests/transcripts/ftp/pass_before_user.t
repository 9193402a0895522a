# PASS is only accepted right after USER
S: 220 {*}
C: PASS secret
S: 503 {*}
C: QUIT
S: 221 Goodbye.
