// Jakarta Mail (Debian 12's libjakarta-mail-java 2.0.0) as applications use it: STARTTLS
// when offered (mail.smtp.starttls.enable), or required (mail.smtp.starttls.required).
// Arguments: MODE (opportunistic|required) PORT. Exit 0 when the message was sent.
// java -Djavax.net.ssl.trustStore=FILE: Jakarta Mail's own trust defaults, with that store.
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.MimeMessage;
import java.util.Properties;

public class JakartaMail {
  public static void main(String[] args) throws Exception {
    Properties p = new Properties();
    p.put("mail.smtp.host", "127.0.0.1");
    p.put("mail.smtp.port", args[1]);
    p.put("mail.smtp.localhost", "client.mxtls.test");
    p.put("mail.smtp.starttls.enable", "true");
    if (args[0].equals("required")) p.put("mail.smtp.starttls.required", "true");
    // With a trust store given (javax.net.ssl.trustStore), Jakarta Mail's defaults: the JDK
    // checks the chain against it. Without one (the client matrix's replay server makes its
    // certificate in memory): trust the server, do not check its name.
    if (System.getProperty("javax.net.ssl.trustStore") == null) {
      p.put("mail.smtp.ssl.trust", "*");
      p.put("mail.smtp.ssl.checkserveridentity", "false");
    }
    p.put("mail.smtp.connectiontimeout", "10000");
    p.put("mail.smtp.timeout", "10000");
    Session session = Session.getInstance(p);
    MimeMessage m = new MimeMessage(session);
    m.setFrom("a@client.mxtls.test");
    m.setRecipients(Message.RecipientType.TO, "b@replay.mxtls.test");
    m.setSubject("t");
    m.setText("hello");
    Transport.send(m);
  }
}
