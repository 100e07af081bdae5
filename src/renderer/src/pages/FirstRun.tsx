import { Doctor } from './Doctor'

export function FirstRun({ onOpenLabs }: { onOpenLabs: () => void }) {
  return (
    <div className="first-run">
      <section className="hero">
        <h1>Measure live VM migration, not guess it.</h1>
        <p className="lead">
          MigLab connects to your lab nodes over SSH, sets up the hypervisor, shared storage and the MPI/DSM cluster with
          guided wizards, runs live migrations with the strategy you choose, and measures each one twice: the hypervisor's
          own figures and what a client on the network actually saw. Every run is kept in a local history to compare,
          chart and export.
        </p>
        <div className="actions">
          <button className="primary" disabled title="Arrives with the demo lab">
            Create demo lab
          </button>
          <button onClick={onOpenLabs}>Add my lab</button>
        </div>
        <p className="muted small">
          The demo lab builds two lab nodes on this Linux machine (network namespaces with their own SSH servers and a QEMU
          guest), so you can learn MigLab without hardware.
        </p>
      </section>
      <section className="card">
        <h2>This machine</h2>
        <Doctor />
      </section>
    </div>
  )
}
