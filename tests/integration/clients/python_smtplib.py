"""Python smtplib as applications use it: STARTTLS when offered (or required)."""
import smtplib
import ssl
import sys

mode, port = sys.argv[1], int(sys.argv[2])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.mxtls.test", timeout=10)
s.ehlo_or_helo_if_needed()
if s.has_extn("starttls"):
    code, _ = s.starttls(context=ctx)
    if code != 220 and mode == "required":
        sys.exit(4)
elif mode == "required":
    sys.exit(3)
s.sendmail("a@client.mxtls.test", ["b@replay.mxtls.test"], "Subject: t\r\n\r\nhello\r\n")
s.quit()
