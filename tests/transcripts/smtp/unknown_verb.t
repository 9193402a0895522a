# Unknown commands and an empty line
S: 220 mx.example.test ESMTP inetkit
C: XYZZY
S: 500 5.5.2 Error: command not recognized
C: xyzzy now
S: 500 5.5.2 Error: command not recognized
C: 
S: 500 5.5.2 Error: empty command line
C: MAILFROM:<a@example.org>
S: 500 5.5.2 Error: command not recognized
C: noop
S: 250 2.0.0 Ok
C: QUIT
S: 221 2.0.0 Bye
