# an unknown name gets the same replies as a wrong password (no user enumeration)
@user alice
S: 220 {*}
C: USER nobody-here
S: 331 Please specify the password.
C: PASS {password}
S: 530 Login failed: login incorrect.
C: QUIT
S: 221 Goodbye.
