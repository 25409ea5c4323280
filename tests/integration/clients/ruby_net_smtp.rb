# Ruby Net::SMTP with STARTTLS when offered (enable_starttls_auto) or required.
require 'net/smtp'
require 'openssl'

mode, port = ARGV
ctx = OpenSSL::SSL::SSLContext.new
ctx.verify_mode = OpenSSL::SSL::VERIFY_NONE
smtp = Net::SMTP.new('127.0.0.1', port.to_i)
mode == 'required' ? smtp.enable_starttls(ctx) : smtp.enable_starttls_auto(ctx)
smtp.open_timeout = 10
smtp.read_timeout = 10
smtp.start('client.mxtls.test') do |s|
  s.send_message("Subject: t\r\n\r\nhello\r\n", 'a@client.mxtls.test', 'b@replay.mxtls.test')
end
