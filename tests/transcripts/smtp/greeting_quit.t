# Banner and QUIT
S: 220 mx.example.test ESMTP inetkit
C: QUIT
S: 221 2.0.0 Bye
= closed
