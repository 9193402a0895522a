# a real account: wrong password, then the right one
@user alice
S: 220 {*}
C: USER alice
S: 331 Please specify the password.
C: PASS wrong
S: 530 Login failed: login incorrect.
C: USER alice
S: 331 Please specify the password.
C: PASS {password}
S: 230 Login successful.
C: PWD
S: 257 "/" is the current directory
C: USER alice
S: 503 Already logged in.
C: QUIT
S: 221 Goodbye.
= closed
