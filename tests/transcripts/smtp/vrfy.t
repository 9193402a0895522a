# VRFY: the same 252 for every name (no user enumeration)
S: 220 mx.example.test ESMTP inetkit
C: VRFY alice
S: 252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery
C: VRFY alice@localhost
S: 252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery
C: VRFY nosuchuser
S: 252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery
C: VRFY postmaster
S: 252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery
C: VRFY
S: 501 5.5.4 Syntax: VRFY address
C: QUIT
S: 221 2.0.0 Bye
