# max_errors: the error after the limit closes the session
@config max_errors = 2
S: 220 mx.example.test ESMTP inetkit
C: XYZZY
S: 500 5.5.2 Error: command not recognized
C: XYZZY
S: 500 5.5.2 Error: command not recognized
C: XYZZY
S: 421 4.7.0 mx.example.test Error: too many errors; closing
= closed
