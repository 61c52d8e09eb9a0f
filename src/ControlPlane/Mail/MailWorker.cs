using System.Security.Cryptography;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;

namespace StreamVerse.ControlPlane.Mail;

/// <summary>
/// Drains <see cref="MailQueue"/> in the <c>JobWorker</c> style: claims due messages under a lease, sends them over one
/// SMTP connection per batch, records each outcome, backs off on failure, and never lets an exception end its loop
/// (an exception escaping a BackgroundService stops the whole daemon). A refusal with a permanent SMTP code (5xx,
/// RFC 5321 §4.2.1) gives the message up at once; anything else is retried until <see cref="MailOptions.MaxAttempts"/>.
/// Without mail configured it says so once and ends.
/// </summary>
internal sealed partial class MailWorker(MailQueue queue, MailTemplates templates, IOptions<MailOptions> options, ILogger<MailWorker> logger) : BackgroundService
{
    private const int BatchSize = 20;

    /// <summary>This process's lease owner.</summary>
    public string Owner { get; } = "mail:" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var o = options.Value;
        if (!o.Enabled)
        {
            Log.Off(logger);
            return;
        }

        Log.On(logger, o.Host!, o.Port, o.Security.ToString(), !string.IsNullOrEmpty(o.User));
        while (!stoppingToken.IsCancellationRequested)
        {
            var more = false;
            try
            {
                var batch = await queue.ClaimAsync(Owner, BatchSize, stoppingToken).ConfigureAwait(false);
                if (batch.Count > 0)
                {
                    await SendAsync(batch, stoppingToken).ConfigureAwait(false);
                    more = batch.Count == BatchSize;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log.QueueError(logger, e.Message);
            }

            if (more)
            {
                continue;
            }

            try
            {
                await queue.WaitAsync(o.PollInterval, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private async Task SendAsync(List<QueuedMail> batch, CancellationToken cancellationToken)
    {
        var o = options.Value;
        using var client = new SmtpClient { Timeout = 30_000 };
        var connected = false;
        foreach (var mail in batch)
        {
            try
            {
                var message = templates.Render(mail);
                if (!connected)
                {
                    await client.ConnectAsync(o.Host!, o.Port, o.Security switch
                    {
                        SmtpSecurity.Tls => SecureSocketOptions.SslOnConnect,
                        SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
                        _ => SecureSocketOptions.None,
                    }, cancellationToken).ConfigureAwait(false);
                    if (!string.IsNullOrEmpty(o.User))
                    {
                        await client.AuthenticateAsync(o.User, o.Password ?? "", cancellationToken).ConfigureAwait(false);
                    }

                    connected = true;
                }

                await client.SendAsync(message, cancellationToken).ConfigureAwait(false);
                await queue.SentAsync(mail.Id, Owner, CancellationToken.None).ConfigureAwait(false);
                Log.Sent(logger, mail.Id, mail.Template, mail.Attempts);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopping: the lease runs out and the message is sent again by whoever claims it next.
                throw;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                var permanent = e is SmtpCommandException { StatusCode: >= (SmtpStatusCode)500 } or InvalidOperationException or MimeKit.ParseException;
                var error = e is SmtpCommandException c ? $"SMTP {(int)c.StatusCode}: {c.Message}" : e.GetType().Name + ": " + e.Message;
                var gaveUp = await queue.FailedAsync(mail, Owner, error, permanent, CancellationToken.None).ConfigureAwait(false);
                if (gaveUp)
                {
                    Log.GaveUp(logger, mail.Id, mail.Template, mail.Attempts, error);
                }
                else
                {
                    Log.Retry(logger, mail.Id, mail.Template, mail.Attempts, error);
                }

                // A broken connection (or a refused login) is the next message's problem too: reconnect for it.
                if (e is not SmtpCommandException { ErrorCode: SmtpErrorCode.RecipientNotAccepted or SmtpErrorCode.SenderNotAccepted or SmtpErrorCode.MessageNotAccepted })
                {
                    connected = false;
                    if (client.IsConnected)
                    {
                        try
                        {
                            await client.DisconnectAsync(true, CancellationToken.None).ConfigureAwait(false);
                        }
                        catch (Exception closing) when (closing is not OutOfMemoryException)
                        {
                            // Already broken: the next message connects afresh.
                        }
                    }
                }
            }
        }

        if (client.IsConnected)
        {
            await client.DisconnectAsync(true, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5600, Level = LogLevel.Information, Message = "Mail: sending through {Host}:{Port} ({Security}, authenticated: {Authenticated})")]
        public static partial void On(ILogger logger, string host, int port, string security, bool authenticated);

        [LoggerMessage(EventId = 5605, Level = LogLevel.Information, Message = "Mail: off (StreamVerse:ControlPlane:Mail:Host is not set): no verification or password-reset mail")]
        public static partial void Off(ILogger logger);

        [LoggerMessage(EventId = 5601, Level = LogLevel.Information, Message = "Mail {Id} ({Template}) sent, attempt {Attempt}")]
        public static partial void Sent(ILogger logger, long id, string template, int attempt);

        [LoggerMessage(EventId = 5602, Level = LogLevel.Warning, Message = "Mail {Id} ({Template}) attempt {Attempt} failed, will retry: {Error}")]
        public static partial void Retry(ILogger logger, long id, string template, int attempt, string error);

        [LoggerMessage(EventId = 5603, Level = LogLevel.Error, Message = "Mail {Id} ({Template}) given up after attempt {Attempt}: {Error}")]
        public static partial void GaveUp(ILogger logger, long id, string template, int attempt, string error);

        [LoggerMessage(EventId = 5604, Level = LogLevel.Error, Message = "Mail queue error (retrying): {Error}")]
        public static partial void QueueError(ILogger logger, string error);
    }
}
