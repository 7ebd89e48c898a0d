; Inno Setup 6 script: Librarian's Windows installer, from the PyInstaller folder.
;
;   bash packaging/build_bundle.sh                          (PYTHON=python, in Git Bash)
;   iscc /DAppVersion=0.1.0 packaging\windows\librarian.iss
;
; -> dist\librarian-<version>-windows-x64-setup.exe
;
; Per-user install by default (no admin rights; %LOCALAPPDATA%\Programs\Librarian), or for all
; users if the person chooses so. Start-menu entry for the windowed librarian-gui.exe, an optional
; desktop icon, and optionally the console `librarian` command on PATH. Uninstalling removes the
; program folder and the PATH entry; the index (%LOCALAPPDATA%\librarian) is the user's and stays.
;
; NOT RUN: this script was written on Linux and has not been compiled or tested (see ../README.md).

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\librarian"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif

[Setup]
AppId={{5C0F4C1E-8D1A-4B7E-9D55-3A2F6B1C7E21}
AppName=Librarian
AppVersion={#AppVersion}
AppVerName=Librarian {#AppVersion}
AppPublisher=Librarian developers
AppComments=Offline search of your own documents, by meaning and by words
DefaultDirName={autopf}\Librarian
DefaultGroupName=Librarian
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#OutputDir}
OutputBaseFilename=librarian-{#AppVersion}-windows-x64-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\librarian-gui.exe
UninstallDisplayName=Librarian
ChangesEnvironment=yes
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Add the ""librarian"" command to PATH"; GroupDescription: "Command line:"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Librarian"; Filename: "{app}\librarian-gui.exe"; Comment: "Search your own documents"
Name: "{autodesktop}\Librarian"; Filename: "{app}\librarian-gui.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\librarian-gui.exe"; Description: "{cm:LaunchProgram,Librarian}"; Flags: nowait postinstall skipifsilent

[Code]
const
  UserEnvKey = 'Environment';
  SystemEnvKey = 'SYSTEM\CurrentControlSet\Control\Session Manager\Environment';

function EnvRoot: Integer;
begin
  if IsAdminInstallMode then Result := HKEY_LOCAL_MACHINE else Result := HKEY_CURRENT_USER;
end;

function EnvKey: String;
begin
  if IsAdminInstallMode then Result := SystemEnvKey else Result := UserEnvKey;
end;

function PathContains(Paths, Dir: String): Boolean;
begin
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Paths) + ';') > 0;
end;

procedure AddToPath(Dir: String);
var
  Paths: String;
begin
  if not RegQueryStringValue(EnvRoot, EnvKey, 'Path', Paths) then Paths := '';
  if PathContains(Paths, Dir) then exit;
  if (Paths <> '') and (Copy(Paths, Length(Paths), 1) <> ';') then Paths := Paths + ';';
  RegWriteExpandStringValue(EnvRoot, EnvKey, 'Path', Paths + Dir);
end;

procedure RemoveFromPath(Dir: String);
var
  Paths: String;
  P: Integer;
begin
  if not RegQueryStringValue(EnvRoot, EnvKey, 'Path', Paths) then exit;
  Paths := ';' + Paths + ';';
  P := Pos(';' + Uppercase(Dir) + ';', Uppercase(Paths));
  if P = 0 then exit;
  Delete(Paths, P, Length(Dir) + 1);
  Paths := Copy(Paths, 2, Length(Paths) - 2);
  RegWriteExpandStringValue(EnvRoot, EnvKey, 'Path', Paths);
end;

procedure CurStepChanged(CurStep: TSetupStep);
begin
  if (CurStep = ssPostInstall) and WizardIsTaskSelected('addtopath') then
    AddToPath(ExpandConstant('{app}'));
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if CurUninstallStep = usPostUninstall then
    RemoveFromPath(ExpandConstant('{app}'));
end;
