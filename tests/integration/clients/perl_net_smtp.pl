# Perl Net::SMTP as applications use it: starttls() when supports('STARTTLS').
use strict;
use warnings;
use Net::SMTP;

my ($mode, $port) = @ARGV;
my $s = Net::SMTP->new("127.0.0.1", Port => $port, Hello => "client.mxtls.test", Timeout => 10) or exit 2;
if (defined $s->supports("STARTTLS")) {  # the value is the parameters, "" for none
  $s->starttls(SSL_verify_mode => 0) or exit 4;
} elsif ($mode eq "required") {
  exit 3;
}
$s->mail('a@client.mxtls.test') or exit 5;
$s->to('b@replay.mxtls.test') or exit 5;
$s->data() or exit 5;
$s->datasend("Subject: t\n\nhello\n");
$s->dataend() or exit 5;
$s->quit;
exit 0;
