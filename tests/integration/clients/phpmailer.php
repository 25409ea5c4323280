<?php
// PHPMailer with SMTPAutoTLS (its default) or SMTPSecure = 'tls' (required).
require '/usr/share/php/libphp-phpmailer/autoload.php';
use PHPMailer\PHPMailer\PHPMailer;

$m = new PHPMailer(true);
$m->isSMTP();
$m->Host = '127.0.0.1';
$m->Port = (int)$argv[2];
$m->SMTPAutoTLS = true;
if ($argv[1] === 'required') { $m->SMTPSecure = 'tls'; }
$m->SMTPOptions = ['ssl' => ['verify_peer' => false, 'verify_peer_name' => false, 'allow_self_signed' => true]];
$m->Hostname = 'client.mxtls.test';
$m->Helo = 'client.mxtls.test';
$m->Timeout = 10;
$m->setFrom('a@client.mxtls.test');
$m->addAddress('b@replay.mxtls.test');
$m->Subject = 't';
$m->Body = 'hello';
try { $m->send(); exit(0); } catch (Exception $e) { fwrite(STDERR, $e->getMessage() . "\n"); exit(5); }
