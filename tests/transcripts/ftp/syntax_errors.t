# unknown verbs and missing or bad arguments
S: 220 {*}
C: FOOBAR
S: 500 Unknown command.
C: USER
S: 501 Syntax: USER <sp> username
C: USER anonymous
S: 331 {*}
C: PASS x@y
S: 230 {*}
C: TYPE X
S: 501 Unknown TYPE; use A or I.
C: MODE Z
S: 504 Only MODE S (stream) is supported.
C: STRU R
S: 504 Only STRU F (file) is supported.
C: REST abc
S: 501 REST needs a byte offset (a decimal number).
C: QUIT
S: 221 Goodbye.
