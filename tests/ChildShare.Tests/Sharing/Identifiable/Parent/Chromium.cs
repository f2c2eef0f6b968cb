using OpenQA.Selenium.Chrome;

namespace ChildShare.Tests.Sharing.Identifiable.Parent;

/// <summary>
/// Headless Chromium from Debian's packages (<c>chromium</c> and <c>chromium-driver</c>, which <c>.ci/run</c>
/// installs), driven through Selenium by path: no browser download. When it is missing the browser tests
/// fail with how to install it, never skip.
/// </summary>
public static class Chromium
{
    public static string Browser => Environment.GetEnvironmentVariable("CHILDSHARE_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public static string Driver => Environment.GetEnvironmentVariable("CHILDSHARE_CHROMEDRIVER") is { Length: > 0 } path ? path : "/usr/bin/chromedriver";

    /// <summary>Where screenshots go: <c>CHILDSHARE_TEST_ARTIFACTS</c>, else <c>artifacts/</c> beside the test assembly.</summary>
    public static string ArtifactsFolder => Directory.CreateDirectory(Environment.GetEnvironmentVariable("CHILDSHARE_TEST_ARTIFACTS") is { Length: > 0 } folder
        ? folder : Path.Combine(AppContext.BaseDirectory, "artifacts")).FullName;

    public static ChromeDriver Start(string userDataDir, string acceptLanguage = "en-US,en")
    {
        if (!File.Exists(Browser) || !File.Exists(Driver))
        {
            throw new InvalidOperationException(
                $"The browser tests need Chromium and its driver ({Browser}, {Driver}). Install them with: "
                + "sudo apt-get update && sudo apt-get install -y chromium chromium-driver (or set CHILDSHARE_CHROMIUM and CHILDSHARE_CHROMEDRIVER).");
        }

        var options = new ChromeOptions { BinaryLocation = Browser };
        // The flags this machine needs (PLATFORM.md): as root no sandbox; no background traffic to a network that is closed.
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions", "--hide-scrollbars",
            "--window-size=390,900", "--user-data-dir=" + userDataDir);
        options.AddUserProfilePreference("intl.accept_languages", acceptLanguage);
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(Driver)!, Path.GetFileName(Driver));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(90));
    }
}
