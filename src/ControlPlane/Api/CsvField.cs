namespace StreamVerse.ControlPlane.Api;

/// <summary>
/// The one way the control plane writes a CSV text field (the audit log's export, analytics dashboards, ledger statements):
/// RFC 4180 §2 (quoted when it holds a quote, comma or line break, or always when asked; inner quotes doubled), and a field a
/// spreadsheet would run as a formula (starting with = + - @, tab or CR: OWASP "CSV injection") gets a leading apostrophe.
/// Numbers are not text: write them with the invariant culture, not through here.
/// </summary>
internal static class CsvField
{
    public static string Text(string value, bool alwaysQuote = false)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return alwaysQuote || value.AsSpan().IndexOfAny("\",\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
