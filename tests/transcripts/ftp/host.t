# HOST (RFC 7151) is accepted before USER and refused after it
S: 220 {*}
C: HOST example.org
S: 220 Host accepted.
C: USER anonymous
S: 331 {*}
C: HOST example.org
S: 503 HOST must come before USER.
C: QUIT
S: 221 Goodbye.
