using System.Globalization;
using System.Text;
using System.Xml;

namespace StreamVerse.ControlPlane.Ads;

/// <summary>
/// Renders VAST 4.2 (IAB Tech Lab, "VAST 4.2", §3.4 InLine, §3.8 Linear, §3.9 MediaFiles, §3.14 TrackingEvents) and
/// VMAP 1.0 (IAB, "VMAP 1.0", §2.4 AdBreak, §2.5 AdSource). Every URL goes into a CDATA section, as both specs show, so
/// the query's <c>&amp;</c> needs no escaping and <c>[ERRORCODE]</c> reaches the player intact (VAST 4.2 §2.4.2.3 macros).
/// </summary>
internal static class VastWriter
{
    private static readonly XmlWriterSettings Settings = new() { Encoding = new UTF8Encoding(false), Indent = false };

    /// <summary>The tracking URLs of one impression, each already signed.</summary>
    internal sealed record Tracking(string Impression, string Error, string Click, IReadOnlyList<(string Event, string Url)> Linear);

    /// <summary>A VAST document with one InLine ad, or with none ("no ad" answer, VAST 4.2 §2.3.6.3) when <paramref name="ad"/> is null.</summary>
    public static byte[] Vast(AdChoice? ad, string impressionId, string mediaUrl, Tracking? tracking)
    {
        using var buffer = new MemoryStream();
        using (var x = XmlWriter.Create(buffer, Settings))
        {
            x.WriteStartDocument();
            x.WriteStartElement("VAST", "http://www.iab.com/VAST");
            x.WriteAttributeString("version", "4.2");
            if (ad is not null && tracking is not null)
            {
                x.WriteStartElement("Ad");
                x.WriteAttributeString("id", ad.CampaignId);
                x.WriteStartElement("InLine");
                x.WriteStartElement("AdSystem");
                x.WriteAttributeString("version", "1");
                x.WriteString("StreamVerse");
                x.WriteEndElement();
                Url(x, "Error", tracking.Error);
                x.WriteStartElement("Impression");
                x.WriteAttributeString("id", impressionId);
                x.WriteCData(tracking.Impression);
                x.WriteEndElement();
                x.WriteElementString("AdServingId", impressionId);
                x.WriteElementString("AdTitle", ad.CampaignName);
                x.WriteElementString("Advertiser", ad.AdvertiserName);
                x.WriteStartElement("Creatives");
                x.WriteStartElement("Creative");
                x.WriteAttributeString("id", ad.CreativeId);
                x.WriteAttributeString("adId", ad.CampaignId);
                x.WriteStartElement("UniversalAdId");
                x.WriteAttributeString("idRegistry", "streamverse");
                x.WriteString(ad.CreativeId);
                x.WriteEndElement();
                x.WriteStartElement("Linear");
                if (ad.SkipOffsetSeconds is { } skip)
                {
                    x.WriteAttributeString("skipoffset", Clock(skip));
                }

                x.WriteElementString("Duration", Clock(ad.DurationSeconds));
                x.WriteStartElement("MediaFiles");
                x.WriteStartElement("MediaFile");
                x.WriteAttributeString("delivery", "streaming");
                x.WriteAttributeString("type", "application/x-mpegURL");
                x.WriteAttributeString("width", ad.Width.ToString(CultureInfo.InvariantCulture));
                x.WriteAttributeString("height", ad.Height.ToString(CultureInfo.InvariantCulture));
                x.WriteAttributeString("minBitrate", "0");
                x.WriteCData(mediaUrl);
                x.WriteEndElement();
                x.WriteEndElement();
                x.WriteStartElement("VideoClicks");
                x.WriteStartElement("ClickThrough");
                x.WriteAttributeString("id", ad.CreativeId);
                x.WriteCData(ad.ClickThrough);
                x.WriteEndElement();
                x.WriteStartElement("ClickTracking");
                x.WriteAttributeString("id", ad.CreativeId);
                x.WriteCData(tracking.Click);
                x.WriteEndElement();
                x.WriteEndElement();
                x.WriteStartElement("TrackingEvents");
                foreach (var (name, url) in tracking.Linear)
                {
                    x.WriteStartElement("Tracking");
                    x.WriteAttributeString("event", name);
                    x.WriteCData(url);
                    x.WriteEndElement();
                }

                x.WriteEndElement(); // TrackingEvents
                x.WriteEndElement(); // Linear
                x.WriteEndElement(); // Creative
                x.WriteEndElement(); // Creatives
                x.WriteEndElement(); // InLine
                x.WriteEndElement(); // Ad
            }

            x.WriteEndElement();
            x.WriteEndDocument();
        }

        return buffer.ToArray();
    }

    /// <summary>A VMAP 1.0 schedule: one linear AdBreak per (timeOffset, breakId, VAST ad tag URL); none for an exempt viewer.</summary>
    public static byte[] Vmap(IEnumerable<(string TimeOffset, string BreakId, string AdTagUri)> breaks)
    {
        const string Ns = "http://www.iab.net/videosuite/vmap";
        using var buffer = new MemoryStream();
        using (var x = XmlWriter.Create(buffer, Settings))
        {
            x.WriteStartDocument();
            x.WriteStartElement("vmap", "VMAP", Ns);
            x.WriteAttributeString("version", "1.0");
            foreach (var (offset, id, uri) in breaks)
            {
                x.WriteStartElement("vmap", "AdBreak", Ns);
                x.WriteAttributeString("timeOffset", offset);
                x.WriteAttributeString("breakType", "linear");
                x.WriteAttributeString("breakId", id);
                x.WriteStartElement("vmap", "AdSource", Ns);
                x.WriteAttributeString("id", id);
                x.WriteAttributeString("allowMultipleAds", "false");
                x.WriteAttributeString("followRedirects", "true");
                x.WriteStartElement("vmap", "AdTagURI", Ns);
                x.WriteAttributeString("templateType", "vast4");
                x.WriteCData(uri);
                x.WriteEndElement();
                x.WriteEndElement();
                x.WriteEndElement();
            }

            x.WriteEndElement();
            x.WriteEndDocument();
        }

        return buffer.ToArray();
    }

    /// <summary>VAST/VMAP time: <c>HH:MM:SS.mmm</c> (VAST 4.2 §3.8.1 Duration; VMAP §2.4 timeOffset).</summary>
    public static string Clock(double seconds)
    {
        var ms = (long)Math.Round(seconds * 1000);
        return string.Create(CultureInfo.InvariantCulture, $"{ms / 3_600_000:00}:{ms / 60_000 % 60:00}:{ms / 1000 % 60:00}.{ms % 1000:000}");
    }

    private static void Url(XmlWriter x, string element, string url)
    {
        x.WriteStartElement(element);
        x.WriteCData(url);
        x.WriteEndElement();
    }
}
