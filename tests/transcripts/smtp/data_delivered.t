# A whole transaction: DATA, dot-stuffed lines, the end
S: 220 mx.example.test ESMTP inetkit
C: EHLO client.example
S: 250-mx.example.test Hello client.example
S: 250-PIPELINING
S: 250-SIZE 26214400
S: 250-STARTTLS
S: 250-ENHANCEDSTATUSCODES
S: 250-8BITMIME
S: 250-DSN
S: 250-SMTPUTF8
S: 250 CHUNKING
C: MAIL FROM:<a@example.org> BODY=8BITMIME
S: 250 2.1.0 Ok
C: RCPT TO:<alice@localhost>
S: 250 2.1.5 Ok
C: DATA
S: 354 End data with <CR><LF>.<CR><LF>
C: Subject: transcript
C: 
C: ..a stuffed dot
C: body
C: .
S: 250 2.0.0 Ok: queued as {*}
C: QUIT
S: 221 2.0.0 Bye
