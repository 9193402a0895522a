# Commands that take no argument, EHLO/HELO without one, an address literal
S: 220 mx.example.test ESMTP inetkit
C: RSET now
S: 501 5.5.4 Syntax: RSET
C: QUIT now
S: 501 5.5.4 Syntax: QUIT
C: STARTTLS now
S: 501 5.5.4 Syntax: STARTTLS
C: EHLO
S: 501 5.5.4 Syntax: EHLO hostname
C: HELO
S: 501 5.5.4 Syntax: HELO hostname
C: EHLO [1.2.3.4]
S: 250-mx.example.test Hello [1.2.3.4]
S: 250-PIPELINING
S: 250-SIZE 26214400
S: 250-STARTTLS
S: 250-ENHANCEDSTATUSCODES
S: 250-8BITMIME
S: 250-DSN
S: 250-SMTPUTF8
S: 250 CHUNKING
C: DATA now
S: 503 5.5.1 Error: need MAIL before DATA
C: QUIT
S: 221 2.0.0 Bye
