# BDAT: chunks, then BDAT 0 LAST; DATA cannot follow
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
C: MAIL FROM:<a@example.org>
S: 250 2.1.0 Ok
C: RCPT TO:<alice@localhost>
S: 250 2.1.5 Ok
C: BDAT 7
C: hello
S: 250 2.0.0 Ok: 7 octets received
C: DATA
S: 503 5.5.1 Error: DATA cannot be mixed with BDAT; end the message with BDAT n LAST, or send RSET
C: BDAT 0 LAST
S: 250 2.0.0 Ok: queued as {*}
C: QUIT
S: 221 2.0.0 Bye
