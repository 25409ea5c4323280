// Nodemailer with its defaults (STARTTLS when offered) or requireTLS.
const path = require('path');
const nodemailer = require(path.join(__dirname, '..', 'peers', 'node_modules', 'nodemailer'));
const [mode, port] = process.argv.slice(2);
const transport = nodemailer.createTransport({
  host: '127.0.0.1', port: Number(port), secure: false, requireTLS: mode === 'required',
  name: 'client.mxtls.test', tls: { rejectUnauthorized: false },
  connectionTimeout: 10000, greetingTimeout: 10000, socketTimeout: 10000,
});
transport.sendMail({ from: 'a@client.mxtls.test', to: 'b@replay.mxtls.test', subject: 't', text: 'hello' })
  .then(() => process.exit(0), (e) => { console.error(e.message); process.exit(5); });
