# with anonymous = no, the anonymous names get the usual prompt and a clear refusal
@config anonymous = no
S: 220 {*}
C: USER anonymous
S: 331 Please specify the password.
C: PASS x@y
S: 530 Login failed: anonymous login is not allowed here.
C: LIST
S: 530 Please log in with USER and PASS first.
C: QUIT
S: 221 Goodbye.
= closed
