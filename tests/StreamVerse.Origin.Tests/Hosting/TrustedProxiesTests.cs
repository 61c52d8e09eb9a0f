using System.Net;
using Microsoft.Extensions.Options;
using StreamVerse.Origin.Hosting;

namespace StreamVerse.Origin.Tests.Hosting;

public sealed class TrustedProxiesTests
{
    [Fact]
    public void Addresses_and_networks_parse_and_anything_else_names_the_key()
    {
        var networks = new OriginOptions { TrustedProxies = ["10.0.0.0/16", "192.0.2.7", "2001:db8::/32", "::1"] }.ParseTrustedProxies();
        Assert.Equal(["10.0.0.0/16", "192.0.2.7/32", "2001:db8::/32", "::1/128"], networks.Select(n => n.ToString()));
        Assert.True(networks[0].Contains(IPAddress.Parse("10.0.200.1")));
        Assert.False(networks[1].Contains(IPAddress.Parse("192.0.2.8")));

        foreach (var bad in (string[])["10.0.0.0/33", "proxy.internal", "10.0.0.1:80", ""])
        {
            var ex = Assert.Throws<OptionsValidationException>(() => new OriginOptions { TrustedProxies = [bad] }.ParseTrustedProxies());
            Assert.Contains("StreamVerse:TrustedProxies", ex.Message, StringComparison.Ordinal);
        }
    }
}
