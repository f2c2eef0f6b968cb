using Microsoft.Extensions.DependencyInjection;

namespace ChildShare.Tests.Support;

/// <summary>
/// A test class on its own corner of Azurite (<see cref="TestStorage"/>) with the application's own wiring on it
/// (<see cref="TestApp.Build"/>: a fake clock at <see cref="TestApp.Now"/>, the development key), both made before
/// each test and removed after. A class that needs more set-up overrides <see cref="StartAsync"/>.
/// </summary>
public abstract class AppTests : IAsyncLifetime
{
    protected TestStorage Storage { get; } = new();

    protected ServiceProvider Services { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Storage.InitializeAsync();
        Services = TestApp.Build(Storage);
        await StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Services.DisposeAsync();
        await Storage.DisposeAsync();
    }

    /// <summary>Runs once the storage and the app are ready, before each test.</summary>
    protected virtual Task StartAsync() => Task.CompletedTask;
}
