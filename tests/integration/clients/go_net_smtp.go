// Go net/smtp as smtp.SendMail uses it: StartTLS when Extension("STARTTLS").
package main

import (
	"crypto/tls"
	"net/smtp"
	"os"
)

func main() {
	mode, port := os.Args[1], os.Args[2]
	c, err := smtp.Dial("127.0.0.1:" + port)
	if err != nil {
		os.Exit(2)
	}
	if err := c.Hello("client.mxtls.test"); err != nil {
		os.Exit(2)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{InsecureSkipVerify: true, ServerName: "replay.mxtls.test"}); err != nil {
			os.Exit(4)
		}
	} else if mode == "required" {
		os.Exit(3)
	}
	if err := c.Mail("a@client.mxtls.test"); err != nil {
		os.Exit(5)
	}
	if err := c.Rcpt("b@replay.mxtls.test"); err != nil {
		os.Exit(5)
	}
	w, err := c.Data()
	if err != nil {
		os.Exit(5)
	}
	w.Write([]byte("Subject: t\r\n\r\nhello\r\n"))
	if err := w.Close(); err != nil {
		os.Exit(5)
	}
	c.Quit()
}
